import { createHash } from "node:crypto";
import type { CloudRunV2Service } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { ComputeBackendService } from "@cdktf/provider-google/lib/compute-backend-service";
import { ComputeGlobalAddress } from "@cdktf/provider-google/lib/compute-global-address";
import { ComputeGlobalForwardingRule } from "@cdktf/provider-google/lib/compute-global-forwarding-rule";
import { ComputeManagedSslCertificate } from "@cdktf/provider-google/lib/compute-managed-ssl-certificate";
import { ComputeRegionNetworkEndpointGroup } from "@cdktf/provider-google/lib/compute-region-network-endpoint-group";
import type { ComputeSecurityPolicy } from "@cdktf/provider-google/lib/compute-security-policy";
import { ComputeSslPolicy } from "@cdktf/provider-google/lib/compute-ssl-policy";
import { ComputeTargetHttpProxy } from "@cdktf/provider-google/lib/compute-target-http-proxy";
import { ComputeTargetHttpsProxy } from "@cdktf/provider-google/lib/compute-target-https-proxy";
import { ComputeUrlMap } from "@cdktf/provider-google/lib/compute-url-map";
import { Construct } from "constructs";

export interface EdgeProps {
  readonly projectId: string;
  /** Region of the Cloud Run service (the serverless NEG is regional). */
  readonly region: string;
  /** The Cloud Run service behind the load balancer; its name is referenced, which orders creation. */
  readonly service: Pick<CloudRunV2Service, "name">;
  /** The custom domain, e.g. `chat.example.com`; its A record must point at `ipAddress`. */
  readonly domain: string;
  /** Cloud Armor policy attached to the backend service (ArmorPolicy.policy). */
  readonly securityPolicy: Pick<ComputeSecurityPolicy, "id">;
  /** Prefix of every resource name. @default "switchboard" */
  readonly namePrefix?: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A global external Application Load Balancer (`EXTERNAL_MANAGED`) in front of one Cloud Run service:
 * a reserved IPv4 address, a serverless NEG for the service
 * (https://cloud.google.com/load-balancing/docs/negs/serverless-neg-concepts), a backend service with the
 * Cloud Armor policy and request logging, a Google-managed certificate for the domain behind TLS 1.2+
 * (MODERN), and port 80 answering only with a 301 to https.
 *
 * The managed certificate provisions only once the domain's A record resolves to `ipAddress`, and takes
 * up to about an hour after that (https://cloud.google.com/load-balancing/docs/ssl-certificates/google-managed-certs).
 * It is named after the domain and created before the old one is destroyed, so changing the domain
 * swaps certificates on the proxy instead of failing to delete one that is in use.
 */
export class Edge extends Construct {
  readonly address: ComputeGlobalAddress;
  /** The IPv4 address the domain's A record must point at. */
  readonly ipAddress: string;
  readonly backend: ComputeBackendService;
  readonly certificate: ComputeManagedSslCertificate;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "switchboard";
    const project = props.projectId;

    this.address = new ComputeGlobalAddress(this, "ip", {
      project,
      name: `${prefix}-edge`,
      addressType: "EXTERNAL",
      ipVersion: "IPV4",
      labels: { ...props.labels },
    });
    this.ipAddress = this.address.address;

    const neg = new ComputeRegionNetworkEndpointGroup(this, "neg", {
      project,
      name: `${prefix}-neg`,
      region: props.region,
      networkEndpointType: "SERVERLESS",
      cloudRun: { service: props.service.name },
    });

    // Serverless NEGs take no health check, port or timeout: Cloud Run's own request timeout applies.
    this.backend = new ComputeBackendService(this, "backend", {
      project,
      name: `${prefix}-backend`,
      loadBalancingScheme: "EXTERNAL_MANAGED",
      protocol: "HTTPS",
      backend: [{ group: neg.id }],
      securityPolicy: props.securityPolicy.id,
      logConfig: { enable: true, sampleRate: 1 },
    });

    const domainHash = createHash("sha256").update(props.domain).digest("hex").slice(0, 8);
    this.certificate = new ComputeManagedSslCertificate(this, "certificate", {
      project,
      name: `${prefix}-${domainHash}`,
      managed: { domains: [props.domain] },
      lifecycle: { createBeforeDestroy: true },
    });

    this.https(prefix, props);
    this.httpRedirect(prefix, props);
  }

  /** Port 443: the URL map to the backend, TLS 1.2+ (MODERN) with the managed certificate. */
  private https(prefix: string, props: EdgeProps): void {
    const project = props.projectId;
    const urlMap = new ComputeUrlMap(this, "url-map", {
      project,
      name: `${prefix}-https`,
      defaultService: this.backend.id,
    });

    const tls = new ComputeSslPolicy(this, "tls-policy", {
      project,
      name: `${prefix}-tls`,
      profile: "MODERN",
      minTlsVersion: "TLS_1_2",
    });

    const httpsProxy = new ComputeTargetHttpsProxy(this, "https-proxy", {
      project,
      name: `${prefix}-https`,
      urlMap: urlMap.id,
      sslCertificates: [this.certificate.id],
      sslPolicy: tls.id,
    });
    new ComputeGlobalForwardingRule(this, "https-rule", {
      project,
      name: `${prefix}-https`,
      loadBalancingScheme: "EXTERNAL_MANAGED",
      ipProtocol: "TCP",
      portRange: "443",
      // The address itself, not its id: the API reads back the number, so that never shows a diff.
      ipAddress: this.address.address,
      target: httpsProxy.id,
      labels: { ...props.labels },
    });
  }

  /** Port 80 answers only with a 301 to https. */
  private httpRedirect(prefix: string, props: EdgeProps): void {
    const project = props.projectId;
    const redirect = new ComputeUrlMap(this, "redirect-url-map", {
      project,
      name: `${prefix}-http-redirect`,
      defaultUrlRedirect: {
        httpsRedirect: true,
        redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
        stripQuery: false,
      },
    });
    const httpProxy = new ComputeTargetHttpProxy(this, "http-proxy", {
      project,
      name: `${prefix}-http`,
      urlMap: redirect.id,
    });
    new ComputeGlobalForwardingRule(this, "http-rule", {
      project,
      name: `${prefix}-http`,
      loadBalancingScheme: "EXTERNAL_MANAGED",
      ipProtocol: "TCP",
      portRange: "80",
      ipAddress: this.address.address,
      target: httpProxy.id,
      labels: { ...props.labels },
    });
  }
}

/**
 * TRUSTED_PROXY_HOPS (brief contract): how many trusted proxies append to X-Forwarded-For, so the service
 * takes the client address that many places from the right and ignores whatever a client wrote itself.
 * - Cloud Run alone: its front end appends the address it saw as the last entry → 1.
 * - Behind the global external Application Load Balancer: the load balancer appends
 *   "<client-ip>,<load-balancer-ip>" (https://cloud.google.com/load-balancing/docs/https#x-forwarded-for_header)
 *   and Cloud Run adds nothing after those, so the client is second from the right → 2 (the same position
 *   kubernetes/registry.k8s.io reads behind a Google load balancer and Cloud Run, pkg/net/clientip).
 */
export function trustedProxyHops(behindEdge: boolean): number {
  return behindEdge ? 2 : 1;
}
