/**
 * Reference: the floor of this stack. A bare uWS server answering every request
 * with one prebuilt Buffer (BODY_FILE), optionally marked gzip. No routing logic,
 * no cache, no headers beyond what the body needs. PROCESSES > 1 forks that many
 * of it sharing PORT (as the read fleet's processes do) and stays as their parent,
 * so the tree's CPU is the server's.
 */
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadNativeUws } from "../src/native-uws";

const processes = Number(process.env.PROCESSES ?? 1);

if (processes > 1) {
  const children = Array.from({ length: processes }, () =>
    fork(process.argv[1] as string, { env: { ...process.env, PROCESSES: "1" } }),
  );
  for (const child of children) child.on("exit", () => process.exit(1));
  process.on("SIGTERM", () => {
    for (const child of children) {
      child.removeAllListeners("exit");
      child.kill("SIGTERM");
    }
    process.exit(0);
  });
} else {
  const uws = loadNativeUws();
  const body = readFileSync(process.env.BODY_FILE as string);
  const gzip = process.env.BODY_ENCODING === "gzip";
  const port = Number(process.env.PORT);

  const app = uws.App();
  if (gzip) {
    app.get("/*", (res) => {
      res.writeHeader("Content-Encoding", "gzip").end(body);
    });
  } else {
    app.get("/*", (res) => {
      res.end(body);
    });
  }
  app.listen("127.0.0.1", port, (token) => {
    if (!token) process.exit(1);
  });
}
