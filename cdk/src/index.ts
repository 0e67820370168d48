export { MillionRpsStack, type MillionRpsStackProps } from "./million-rps-stack";
export { applySuppressions } from "./nag";
export { readSettings, readSizing, type Settings } from "./settings";
export { PROFILES, type Sizing, SizingError, validateSizing } from "./sizing";
