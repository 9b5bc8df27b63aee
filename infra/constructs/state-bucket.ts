import { StorageBucket } from "@cdktf/provider-google/lib/storage-bucket";
import { Construct } from "constructs";

export interface StateBucketProps {
  readonly projectId: string;
  readonly name: string;
  /** Bucket location; a region keeps state next to the project. */
  readonly location: string;
  /** Noncurrent state versions kept before the oldest are deleted. @default 20 */
  readonly keepVersions?: number;
  /** Days a noncurrent version lives at most. @default 90 */
  readonly noncurrentDays?: number;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The Terraform state bucket of every platform stack: uniform bucket-level access, public access
 * prevention enforced, versioning (a bad apply can be rolled back to an older state object) with old
 * versions expired, and Terraform refusing to destroy it.
 * https://cloud.google.com/docs/terraform/resource-management/store-state
 */
export class StateBucket extends Construct {
  readonly bucket: StorageBucket;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    this.bucket = new StorageBucket(this, "bucket", {
      project: props.projectId,
      name: props.name,
      location: props.location,
      storageClass: "STANDARD",
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      versioning: { enabled: true },
      forceDestroy: false,
      labels: { ...props.labels },
      lifecycleRule: [
        {
          action: { type: "Delete" },
          condition: { numNewerVersions: props.keepVersions ?? 20, withState: "ARCHIVED" },
        },
        {
          action: { type: "Delete" },
          condition: { daysSinceNoncurrentTime: props.noncurrentDays ?? 90, withState: "ARCHIVED" },
        },
      ],
      lifecycle: { preventDestroy: true },
    });
  }
}
