/**
 * systemd integration for `Type=notify` units: READY=1, STOPPING=1 and watchdog
 * pings. Does nothing without NOTIFY_SOCKET (not under systemd).
 *
 * Node has no unix datagram sockets, so messages go through `systemd-notify
 * --pid=<our pid>`; the unit sets `NotifyAccess=all` so systemd accepts them from
 * that helper process.
 */
import { execFile } from 'node:child_process';

export function notifySystemd(state: string): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', [`--pid=${process.pid}`, state], () => undefined);
}

/** Pings the watchdog at half of WATCHDOG_USEC, as sd_watchdog_enabled(3) recommends. */
export function startWatchdog(): { stop(): void } | undefined {
  const usec = Number(process.env.WATCHDOG_USEC);
  if (!process.env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return undefined;
  const timer = setInterval(() => notifySystemd('WATCHDOG=1'), Math.max(1000, usec / 2000));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
