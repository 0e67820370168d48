/** Lambda entry for POST /todos (API Gateway HTTP API, payload v2). */
import { lambdaHandler } from "../lambda";

export const handler = lambdaHandler("create");
