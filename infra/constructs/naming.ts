/** Construct id of a role grant: `roles/cloudsql.instanceUser` → `cloudsql-instanceuser`. */
export const roleId = (role: string): string =>
  role
    .replace(/^roles\//, "")
    .replace(/\./g, "-")
    .toLowerCase();
