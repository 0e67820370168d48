/** kafkajs ships no types for its internals; kafkajs-request-queue.ts patches this one class. */
declare module "kafkajs/src/network/requestQueue/index.js" {
  const RequestQueue: unknown;
  export default RequestQueue;
}
