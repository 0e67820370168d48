export { kafkaInstance } from "../kafka";
export { dataDir } from "../paths";
export { postgresInstance } from "../postgres";
export { canConnect, freePort, waitUntil } from "../proc";
export { redisInstance } from "../redis";
export { freshDatabase, freshKeyPrefix, freshTopics, testServices, uniqueName } from "./fixtures";
export { startTestStack, TEST_JWT_SECRET, type TestStack } from "./test-stack";
