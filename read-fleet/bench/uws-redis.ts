/**
 * Reference: the seed's design. uWS, and a Redis round trip (ioredis getBuffer)
 * on every request for the page's raw JSON.
 */
import { Redis } from "ioredis";
import { loadNativeUws } from "../src/native-uws";

const uws = loadNativeUws();
const redis = new Redis(process.env.REDIS_URL as string);
const key = process.env.PAGE_KEY as string;
const port = Number(process.env.PORT);

uws
  .App()
  .get("/*", (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    redis.getBuffer(key).then(
      (body) => {
        if (aborted) return;
        res.cork(() => {
          res.writeHeader("Content-Type", "application/json").end(body ?? "[]");
        });
      },
      () => {
        if (!aborted) res.cork(() => res.writeStatus("503 Service Unavailable").end());
      },
    );
  })
  .listen("127.0.0.1", port, (token) => {
    if (!token) process.exit(1);
  });
