import { isAlive, readFleetProcessPids, type Stack } from "@million-rps/local";

/** What a tool outside Node needs to drive the stack, and what proves afterwards that nothing died. */
export interface StackState {
  readUrl: string;
  writeUrl: string;
  readAdminUrl: string;
  workerAdminUrl: string;
  /** A bearer token for the write API. */
  token: string;
  logDir: string;
  pids: { worker: number; writeApi: number; readFleet: number; readProcesses: number[] };
}

function pidOf(stack: Stack, name: Parameters<Stack["app"]>[0]): number {
  const pid = stack.app(name).child.pid;
  if (pid === undefined) throw new Error(`${name} has no pid`);
  return pid;
}

export function stackState(stack: Stack, extra: { token: string; logDir: string }): StackState {
  return {
    readUrl: stack.readUrl,
    writeUrl: stack.writeUrl,
    readAdminUrl: stack.readAdminUrl,
    workerAdminUrl: stack.workerAdminUrl,
    ...extra,
    pids: {
      worker: pidOf(stack, "worker"),
      writeApi: pidOf(stack, "write-api"),
      readFleet: pidOf(stack, "read-fleet"),
      readProcesses: stack.readProcessPids(),
    },
  };
}

async function status(url: string): Promise<number | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Every process still alive, the read fleet's uWS processes the same ones (none died
 * and was restarted), and every health endpoint answering 200. Returns the problems.
 */
export async function checkStack(state: StackState): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, pid] of Object.entries({
    worker: state.pids.worker,
    "write-api": state.pids.writeApi,
    "read-fleet supervisor": state.pids.readFleet,
  })) {
    if (!isAlive(pid)) problems.push(`${name} (pid ${pid}) is dead`);
  }
  const now = readFleetProcessPids(state.pids.readFleet);
  if (now.join(",") !== state.pids.readProcesses.join(",")) {
    problems.push(
      `read-fleet uWS processes changed: ${state.pids.readProcesses.join(",")} -> ${now.join(",")} (one died and was restarted)`,
    );
  }
  for (const url of [
    `${state.readUrl}/healthz`,
    `${state.readUrl}/readyz`,
    `${state.writeUrl}/healthz`,
    `${state.workerAdminUrl}/healthz`,
  ]) {
    const got = await status(url);
    if (got !== 200) problems.push(`${url} answered ${got}`);
  }
  return problems;
}
