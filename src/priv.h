/* SPDX-License-Identifier: ISC */
/*
 * Privileges: look up the `user` of the configuration while still root,
 * and drop to it in each worker, verifying that the drop cannot be undone.
 */
#ifndef PRIV_H
#define PRIV_H

#include <stddef.h>
#include <sys/types.h>

struct priv_user {
	int	set;		/* 0: no drop wanted */
	uid_t	uid;
	gid_t	gid;
	char	name[64];
};

/*
 * Resolve `name` ("" means none).  Fails with a message in err when the
 * user does not exist or is root, or, with need_root, when a user is named
 * but we are not root (a drop we cannot make must not pass silently).
 * Returns 0 or -1.
 */
int	priv_lookup(const char *name, struct priv_user *pu, int need_root,
	    char *err, size_t errlen);

/*
 * setgroups, setgid, setuid to pu, then verify ids and that setuid(0)
 * fails.  Returns 0, or -1 after logging why.  No-op when !pu->set.
 */
int	priv_drop(const struct priv_user *pu);

#endif
