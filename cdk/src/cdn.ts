import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { accept } from "./nag";
import type { ReadFleet } from "./read-fleet";
import type { Settings } from "./settings";

/**
 * Optional (`-c cdn=true`) CloudFront micro-cache in front of the read NLB.
 * The read fleet's Cache-Control (max-age=1, stale-while-revalidate=5 by
 * default) decides how long an edge holds a page; the origin already has identity, gzip and brotli bodies,
 * so CloudFront only normalizes Accept-Encoding into the cache key and never
 * compresses itself. Reads only: writes go to the HTTP API.
 */
export class Cdn extends Construct {
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, readFleet: ReadFleet, settings: Settings) {
    super(scope, id);
    const microCache = new cloudfront.CachePolicy(this, "MicroCache", {
      comment: "million-rps reads: honour origin max-age (1 s), key on limit and cursor",
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(1),
      maxTtl: Duration.seconds(10),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList("limit", "cursor"),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    // Standard logs need ACLs on the bucket; kept on destroy (delete it with `aws s3 rb --force`).
    const logBucket = new s3.Bucket(this, "Logs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: "million-rps read micro-cache",
      defaultBehavior: {
        origin: new origins.HttpOrigin(readFleet.loadBalancer.loadBalancerDnsName, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
          httpPort: 80,
          keepaliveTimeout: Duration.seconds(60),
          readTimeout: Duration.seconds(10),
        }),
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: microCache,
        compress: false,
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket,
      // p99 origin latency and cache-hit rate for the alarms and the dashboard.
      publishAdditionalMetrics: true,
      ...(settings.cdnDomain && {
        domainNames: [settings.cdnDomain.name],
        certificate: acm.Certificate.fromCertificateArn(
          this,
          "Certificate",
          settings.cdnDomain.certificateArn,
        ),
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      }),
    });
    this.acceptFindings(logBucket, settings);
  }

  private acceptFindings(logBucket: s3.Bucket, settings: Settings): void {
    const d = this.distribution;
    accept(
      logBucket,
      "AwsSolutions-S1",
      "This bucket is the CloudFront access-log destination itself; logging it to another bucket would only log the logging.",
    );
    accept(
      d,
      "AwsSolutions-CFR1",
      "A public Todo read API for every region: there is no country to block.",
    );
    accept(
      d,
      "AwsSolutions-CFR2",
      "The CDN serves public, cacheable GETs of prebuilt pages; a WAF costs per request (about as much as CloudFront itself at 1M req/s). Attach one with webAclId when abuse appears.",
    );
    accept(
      d,
      "AwsSolutions-CFR5",
      "The origin is the public read NLB over HTTP: it carries the same public, unauthenticated pages any client reads from the NLB, and no credential. TLS to the origin needs a certificate on the NLB.",
    );
    if (settings.cdnDomain === undefined) {
      accept(
        d,
        "AwsSolutions-CFR4",
        "Without a custom domain the *.cloudfront.net certificate applies and its security policy cannot be raised; -c cdnDomainName and cdnCertificateArn set TLSv1.2_2021.",
      );
    }
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}
