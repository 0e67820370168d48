/** Lambda entry for PUT and PATCH /todos/{id} (API Gateway HTTP API, payload v2). */
import { lambdaHandler } from "../lambda";

export const handler = lambdaHandler("update");
