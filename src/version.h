/* SPDX-License-Identifier: ISC */
/*
 * The version, in one place: `connectproxy -V` prints it and the
 * metrics report it (connectproxy_build_info).
 */
#ifndef VERSION_H
#define VERSION_H

#define CONNECTPROXY_VERSION	"0.1.0"

#endif
