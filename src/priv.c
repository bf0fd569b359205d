/* SPDX-License-Identifier: ISC */
/*
 * Dropping root in workers: groups first, then gid, then uid (CERT POS36-C),
 * and a final check that root cannot be regained (CERT POS37-C).
 */
#define _DEFAULT_SOURCE		/* setgroups(2) */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

int
priv_lookup(const char *name, struct priv_user *pu, int need_root,
    char *err, size_t errlen)
{
	struct passwd	*pw;

	memset(pu, 0, sizeof(*pu));
	if (name[0] == '\0')
		return 0;
	if (need_root && geteuid() != 0) {
		snprintf(err, errlen, "user %s: set, but not started as root; "
		    "remove it or start as root", name);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "user %s: %s", name,
		    errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user %s: is root; workers must not "
		    "run as root", name);
		return -1;
	}
	pu->set = 1;
	pu->uid = pw->pw_uid;
	pu->gid = pw->pw_gid;
	snprintf(pu->name, sizeof(pu->name), "%s", name);
	return 0;
}

int
priv_drop(const struct priv_user *pu)
{
	if (!pu->set)
		return 0;
	if (setgroups(1, &pu->gid) == -1 || setgid(pu->gid) == -1 ||
	    setuid(pu->uid) == -1) {
		log_warn("dropping privileges to %s", pu->name);
		return -1;
	}
	if (getuid() != pu->uid || geteuid() != pu->uid ||
	    getgid() != pu->gid || getegid() != pu->gid) {
		log_error("privilege drop to %s left other ids", pu->name);
		return -1;
	}
	if (setuid(0) != -1) {
		log_error("privilege drop to %s can be undone", pu->name);
		return -1;
	}
	return 0;
}
