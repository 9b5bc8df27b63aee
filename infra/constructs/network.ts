import { ComputeGlobalAddress } from "@cdktf/provider-google/lib/compute-global-address";
import { ComputeNetwork } from "@cdktf/provider-google/lib/compute-network";
import { ComputeSubnetwork } from "@cdktf/provider-google/lib/compute-subnetwork";
import { ServiceNetworkingConnection } from "@cdktf/provider-google/lib/service-networking-connection";
import { VpcAccessConnector } from "@cdktf/provider-google/lib/vpc-access-connector";
import { Construct } from "constructs";
import type { ConnectorSpec, NetworkSpec } from "../environments";

export interface NetworkProps {
  readonly projectId: string;
  readonly region: string;
  /** Prefix of every resource name. @default "switchboard" */
  readonly namePrefix?: string;
  readonly network: NetworkSpec;
  readonly connector: ConnectorSpec;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A private network for the services' egress to Cloud SQL:
 * - custom-mode VPC (no auto subnets in every region),
 * - one subnet with flow logs and private Google access: a /28 for the Serverless VPC Access connector, or
 *   (`network.egress` "direct") the larger one Cloud Run's Direct VPC egress takes instance IPs from,
 * - a range reserved for private services access and the peering to servicenetworking, which Cloud SQL's
 *   private IP lives behind (https://cloud.google.com/sql/docs/postgres/configure-private-services-access),
 * - with "connector", the connector Cloud Run sends private-range traffic through; with "direct", none.
 * Cloud Run services take the Network itself (VpcEgress) and pick the path it offers.
 */
export class Network extends Construct {
  readonly vpc: ComputeNetwork;
  readonly subnet: ComputeSubnetwork;
  readonly privateServicesRange: ComputeGlobalAddress;
  /** Cloud SQL must wait for this peering before it can take a private IP. */
  readonly privateServicesConnection: ServiceNetworkingConnection;
  /** The Serverless VPC Access connector; undefined with Direct VPC egress. */
  readonly connector?: VpcAccessConnector;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "switchboard";

    this.vpc = new ComputeNetwork(this, "vpc", {
      project: props.projectId,
      name: `${prefix}-vpc`,
      autoCreateSubnetworks: false,
      routingMode: "REGIONAL",
      deleteDefaultRoutesOnCreate: false,
    });

    const direct = props.network.egress === "direct";
    if (direct) assertDirectEgressRange(props.network.directEgressCidr);
    // Construct ids stay as they were for the connector ("connector-subnet"); Direct VPC egress gets its own.
    this.subnet = new ComputeSubnetwork(this, direct ? "run-subnet" : "connector-subnet", {
      project: props.projectId,
      name: direct ? `${prefix}-run` : `${prefix}-connector`,
      region: props.region,
      network: this.vpc.id,
      ipCidrRange: direct ? props.network.directEgressCidr : props.network.connectorCidr,
      privateIpGoogleAccess: true,
      logConfig: {
        aggregationInterval: "INTERVAL_5_SEC",
        flowSampling: props.network.flowLogSampling,
        metadata: "INCLUDE_ALL_METADATA",
      },
    });

    this.privateServicesRange = new ComputeGlobalAddress(this, "private-services-range", {
      project: props.projectId,
      name: `${prefix}-private-services`,
      purpose: "VPC_PEERING",
      addressType: "INTERNAL",
      prefixLength: props.network.privateServicesPrefixLength,
      network: this.vpc.id,
      labels: { ...props.labels },
      // Allocated after the subnet exists, so Google's automatic choice of range cannot overlap it.
      dependsOn: [this.subnet],
    });

    this.privateServicesConnection = new ServiceNetworkingConnection(this, "private-services-connection", {
      network: this.vpc.id,
      service: "servicenetworking.googleapis.com",
      reservedPeeringRanges: [this.privateServicesRange.name],
      // Deleting the peering fails while Cloud SQL's producer network still holds addresses; abandon it
      // on destroy instead of wedging `cdktf destroy`.
      deletionPolicy: "ABANDON",
    });

    if (!direct) this.connector = this.connectorIn(this.subnet, prefix, props);
  }

  private connectorIn(subnet: ComputeSubnetwork, prefix: string, props: NetworkProps): VpcAccessConnector {
    return new VpcAccessConnector(this, "connector", {
      project: props.projectId,
      name: `${prefix}-conn`,
      region: props.region,
      machineType: props.connector.machineType,
      minInstances: props.connector.minInstances,
      maxInstances: props.connector.maxInstances,
      subnet: { name: subnet.name, projectId: props.projectId },
    });
  }
}

/** Google asks for a /26 or larger for Direct VPC egress (https://cloud.google.com/run/docs/configuring/vpc-direct-vpc). */
function assertDirectEgressRange(cidr: string): void {
  const prefix = Number(cidr.split("/")[1]);
  if (!Number.isInteger(prefix) || prefix > 26) {
    throw new Error(`Direct VPC egress subnet ${cidr} is too small: use a /26 or larger`);
  }
}
