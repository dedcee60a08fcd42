// Who owns the secrets an API caller manages: the authenticated user name, as is or with a
// configured prefix removed (e.g. "system:serviceaccount:apolo-users:"). Pure.

export interface OwnerMapping {
  /** Removed from the start of the user name; callers without it are refused. Empty: as is. */
  usernamePrefix: string;
}

export type OwnerResult =
  | { kind: "owner"; owner: string; storeId: string }
  | { kind: "refused"; message: string };

// Owner names become part of a Secret name: user--{owner with / as --}--secrets.
const OWNER = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?)*$/;

export function ownerOf(username: string, mapping: OwnerMapping): OwnerResult {
  let name = username;
  if (mapping.usernamePrefix !== "") {
    if (!username.startsWith(mapping.usernamePrefix)) {
      return {
        kind: "refused",
        message: `user '${username}' is not a platform user (expected a name starting with '${mapping.usernamePrefix}')`,
      };
    }
    name = username.slice(mapping.usernamePrefix.length);
  }
  if (!OWNER.test(name) || name.includes("--")) {
    return {
      kind: "refused",
      message: `user name '${name}' cannot own secrets: lowercase letters, digits, '-', '.' and '/' only`,
    };
  }
  return { kind: "owner", owner: name, storeId: name.replaceAll("/", "--") };
}
