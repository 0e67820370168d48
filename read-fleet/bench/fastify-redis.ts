/**
 * Reference: what a user would pick instead. Fastify, and a Redis round trip
 * (ioredis getBuffer) on every request for the page's raw JSON.
 */
import Fastify from "fastify";
import { Redis } from "ioredis";

const redis = new Redis(process.env.REDIS_URL as string);
const key = process.env.PAGE_KEY as string;
const app = Fastify({ logger: false });

app.get("/todos", async (_request, reply) => {
  const body = await redis.getBuffer(key);
  return reply.header("content-type", "application/json").send(body ?? "[]");
});

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
