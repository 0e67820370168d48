export * from "./config";
export * from "./native-uws";
export * from "./server";
