import { ArtifactRegistryRepository } from "@cdktf/provider-google/lib/artifact-registry-repository";
import { Construct } from "constructs";

export interface ArtifactRegistryProps {
  readonly projectId: string;
  readonly region: string;
  /** @default "switchboard" */
  readonly repositoryId?: string;
  /** Most recent image versions kept whatever their age. */
  readonly keepCount: number;
  /** Untagged images (superseded builds) are deleted after this long. @default "604800s" (7 days) */
  readonly untaggedOlderThan?: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The Docker repository CI pushes the service image to. Tags are immutable (CI tags by commit SHA, so a tag
 * always means one build), and cleanup policies keep storage bounded: untagged images go after a week,
 * the most recent versions always stay (https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy).
 */
export class ArtifactRegistry extends Construct {
  readonly repository: ArtifactRegistryRepository;
  /** `REGION-docker.pkg.dev/PROJECT/REPO`: prefix of every image name. */
  readonly imageRepository: string;

  constructor(scope: Construct, id: string, props: ArtifactRegistryProps) {
    super(scope, id);
    const repositoryId = props.repositoryId ?? "switchboard";
    this.repository = new ArtifactRegistryRepository(this, "repository", {
      project: props.projectId,
      location: props.region,
      repositoryId,
      format: "DOCKER",
      description: "Switchboard service images (pushed by CI)",
      labels: { ...props.labels },
      dockerConfig: { immutableTags: true },
      cleanupPolicyDryRun: false,
      cleanupPolicies: [
        {
          id: "delete-untagged",
          action: "DELETE",
          condition: { tagState: "UNTAGGED", olderThan: props.untaggedOlderThan ?? "604800s" },
        },
        {
          id: "keep-recent",
          action: "KEEP",
          mostRecentVersions: { keepCount: props.keepCount },
        },
      ],
    });
    this.imageRepository = `${props.region}-docker.pkg.dev/${props.projectId}/${repositoryId}`;
  }
}
