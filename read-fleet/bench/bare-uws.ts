/**
 * Reference: the floor of this stack. A bare uWS server answering every request
 * with one prebuilt Buffer (BODY_FILE), optionally marked gzip. No routing logic,
 * no cache, no headers beyond what the body needs.
 */
import { readFileSync } from "node:fs";
import { loadNativeUws } from "../src/native-uws";

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
