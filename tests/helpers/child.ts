// Stopping a child process the tests or benches started: by pid, only theirs.
import type { ChildProcess } from "node:child_process";

/** Sends `signal` and waits for the exit; at once when the child already ended (by an exit or a signal). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}
