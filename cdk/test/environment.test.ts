import { describe, expect, it } from "vitest";
import { deployEnvironment } from "../src/environment";
import { COMMITTED_CONTEXT } from "./support/synth";

const committed = (key: string) => COMMITTED_CONTEXT[key];

describe("the environment a template is synthesized for", () => {
  it("is the caller's account and region when the CLI found credentials", () => {
    expect(
      deployEnvironment(committed, {
        CDK_DEFAULT_ACCOUNT: "222222222222",
        CDK_DEFAULT_REGION: "eu-west-1",
      }),
    ).toEqual({ account: "222222222222", region: "eu-west-1", offline: false });
  });

  it("is the committed stand-in without credentials, with three AZs looked up for it", () => {
    expect(deployEnvironment(committed, {})).toEqual({
      account: "111111111111",
      region: "us-east-1",
      offline: true,
    });
    expect(
      COMMITTED_CONTEXT["availability-zones:account=111111111111:region=us-east-1"],
    ).toHaveLength(3);
  });

  it("refuses to guess when neither is there", () => {
    expect(() => deployEnvironment(() => undefined, {})).toThrow(/offlineAccount/);
  });
});
