import { SizingError } from "./sizing";

export interface DeployEnvironment {
  account: string;
  region: string;
  /** True when no credentials were found and the committed stand-in account is used. */
  offline: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The account and region the stack is synthesized for. `cdk deploy` (and any
 * synth with credentials) passes the caller's account and region; without
 * credentials (CI, this repository's checks) the stack is synthesized for the
 * stand-in account and region committed in cdk.json (`offlineAccount`,
 * `offlineRegion`) with their lookups (three AZs, CloudFront's prefix list), so
 * the linted template has the shape a deploy has: never environment-agnostic.
 */
export function deployEnvironment(
  get: (key: string) => unknown,
  env: Env = process.env,
): DeployEnvironment {
  const account = env.CDK_DEFAULT_ACCOUNT;
  const region = env.CDK_DEFAULT_REGION;
  if (account !== undefined && account !== "" && region !== undefined && region !== "") {
    return { account, region, offline: false };
  }
  const offlineAccount = get("offlineAccount");
  const offlineRegion = get("offlineRegion");
  if (typeof offlineAccount !== "string" || typeof offlineRegion !== "string") {
    throw new SizingError(
      "no AWS credentials and no context offlineAccount/offlineRegion: cannot pick the environment",
    );
  }
  return { account: offlineAccount, region: offlineRegion, offline: true };
}
