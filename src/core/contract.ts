// The fixed names of the pod contract: the owner labels the platform sets, the annotation in
// which a job asks for secret files, and the prefix of a reference. A leaf module, so the
// messages and the rules that use these names can share them without importing each other.

export const LABEL_PREFIXES = ["platform.apolo.us/", "platform.neuromation.io/"] as const;
export const USER_LABEL = "platform.apolo.us/user";
export const ORG_LABEL = "platform.apolo.us/org";
export const PROJECT_LABEL = "platform.apolo.us/project";

export const SECRET_VOLUMES_ANNOTATION = "platform.apolo.us/secret-volumes";

export const REFERENCE_PREFIX = "secret:";
