/* bandwidth.h — <bandwidth> limits on a network's bridge and on the taps of
 * a network's default portgroup, in libvirt's units (average and peak in
 * kilobytes per second, burst in kilobytes; a kilobyte is 1000 bytes, as
 * tc(8) and libvirt count it).
 *
 * Directions, for a bridge and for a tap alike:
 *  - inbound (towards the guests, the device's egress) is shaped with tc(8):
 *    an HTB root qdisc 1: whose default class 1:1 has rate AVERAGE, ceil PEAK
 *    (= AVERAGE when not given) and burst BURST; excess is queued, then
 *    dropped. libvirt also puts an SFQ leaf under the class for fairness
 *    between flows; virtfs does not (many kernels lack sch_sfq), so the
 *    class keeps the kernel's default FIFO.
 *  - outbound (from the guests, the device's ingress) is policed, not
 *    shaped, as libvirt does: libvirt uses a tc u32 filter with a police
 *    action; virtfs uses an nftables base chain "bw-DEV" with an ingress
 *    hook on DEV in `table inet virtfs` and one rule
 *    `limit rate over AVERAGE*1000 bytes/second burst BURST*1000 bytes drop`
 *    (BURST defaults to AVERAGE), which needs no tc classifier or action
 *    module. A peak on outbound is accepted and, as in libvirt, not used.
 *
 * The builders are pure (golden-tested); apply/clear run tc in the calling
 * thread's network namespace and nft through nft_rules_apply().
 * Errors: negative errno with a sentence; tc's exit is translated in
 * bandwidth_tc_error_to_errno() only. */
#pragma once

#include <glib.h>

#include "objects/network_def.h"

/* The tc commands (each a NULL-terminated argv starting with "tc") that set
 * the inbound limit on `dev`; empty when there is none. Pure. */
GPtrArray *bandwidth_build_tc(const char *dev, const NetworkBandwidth *bw);

/* The nft script that installs (outbound set) or removes (not set) the
 * policing chain of `dev`. Pure. */
char *bandwidth_build_nft(const char *dev, const NetworkBandwidth *bw);

/* The name of `dev`'s policing chain ("bw-DEV"); newly allocated. */
char *bandwidth_chain_name(const char *dev);

/* tc's exit status and stderr -> negative errno: "unknown"/"not found"
 * (the kernel lacks a qdisc) -EOPNOTSUPP, "Operation not permitted" -EPERM,
 * "Cannot find device" -ENODEV, else -EIO. */
int bandwidth_tc_error_to_errno(int status, const char *stderr_text);

/* Replaces the inbound (tc) limit of `dev` with `bw`'s (none set: removes
 * it). -ENOENT when a limit is wanted and tc is not installed. */
int bandwidth_apply_tc(const char *dev, const NetworkBandwidth *bw, char **ret_error);

/* bandwidth_apply_tc() and the outbound policing chain: what a tap gets.
 * (A network's bridge gets its chain with its other rules, nft_rules.h.) */
int bandwidth_apply(const char *dev, const NetworkBandwidth *bw, char **ret_error);

/* Removes the policing chain of `dev` (its tc qdisc goes with the device);
 * 0 also when there was none. */
int bandwidth_clear(const char *dev);
