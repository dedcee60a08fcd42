// The README's error table lists every message the admission gives: each builder of the catalogue
// (src/core/messages.ts) is called with marker arguments, and the fixed words around the markers
// must appear in the README's "Error messages" section. A builder added without a sample here
// does not compile; a message added without a README row fails.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeReview } from "../../src/admission/decode.js";
import * as messages from "../../src/core/messages.js";
import type { GrammarError } from "../../src/core/reference.js";

const TEXT = "⟪x⟫";
const NUMBER = 987_654;
const grammarError: GrammarError = { kind: "grammar-error", text: TEXT, problem: TEXT };

// subjectOf words a part of other messages (noOwner, foreignStore), sampled through them.
type Builders = Omit<typeof messages, "SECRET_NAME_RULE" | "MOUNT_PATH_PROBLEMS" | "places" | "subjectOf">;

// Every builder, called once per wording it can give (a scope, a configured cluster or not).
const SAMPLES: { [name in keyof Builders]: () => string[] } = {
  noPodObject: () => [messages.noPodObject()],
  noStoredPod: () => [messages.noStoredPod()],
  acceptedForms: () => [messages.acceptedForms("user"), messages.acceptedForms("project")],
  notAReference: () => [messages.notAReference()],
  referenceTooLong: () => [messages.referenceTooLong(NUMBER)],
  emptySecretName: () => [messages.emptySecretName()],
  emptyClusterName: () => [messages.emptyClusterName()],
  expectedFullForm: () => [messages.expectedFullForm("user"), messages.expectedFullForm("project")],
  expectedOwnerForm: () => [messages.expectedOwnerForm("user"), messages.expectedOwnerForm("project")],
  slashInSecretName: () => [messages.slashInSecretName()],
  badSegment: () =>
    ["owner", "project path", "cluster name"].flatMap((what) => [
      messages.badSegment(what, ""),
      messages.badSegment(what, TEXT),
    ]),
  secretNameBreaksRule: () => [messages.secretNameBreaksRule(TEXT)],
  invalidReference: () => [messages.invalidReference(TEXT, grammarError, "user")],
  conflictingLabels: () => [messages.conflictingLabels(TEXT, TEXT, TEXT, TEXT)],
  invalidUserLabel: () => [messages.invalidUserLabel(TEXT)],
  userLabelTooLong: () => [messages.userLabelTooLong()],
  projectNeedsBothLabels: () => [messages.projectNeedsBothLabels()],
  invalidProjectLabel: () => [messages.invalidProjectLabel(TEXT, TEXT)],
  projectLabelsTooLong: () => [messages.projectLabelsTooLong()],
  invalidOwner: () => [messages.invalidOwner(TEXT)],
  noOwner: () => [
    messages.noOwner("user", [TEXT]),
    messages.noOwner("project", [TEXT]),
    messages.noOwner("user", [TEXT], messages.subjectOf("Job")),
  ],
  forgedOwner: () => [messages.forgedOwner(TEXT, "user", TEXT), messages.forgedOwner(TEXT, "project", TEXT)],
  forgedTemplateOwner: () => [
    messages.forgedTemplateOwner(TEXT, "user", TEXT, "Job"),
    messages.forgedTemplateOwner(TEXT, "project", TEXT, "Job"),
  ],
  missingSecrets: () => [messages.missingSecrets([TEXT])],
  foreignSecret: () => [messages.foreignSecret(TEXT, TEXT, TEXT, TEXT)],
  wrongCluster: () => [
    messages.wrongCluster(TEXT, TEXT, TEXT, undefined),
    messages.wrongCluster(TEXT, TEXT, TEXT, TEXT),
  ],
  foreignStore: () => [
    messages.foreignStore(TEXT, TEXT, TEXT, undefined),
    messages.foreignStore(TEXT, TEXT, TEXT, TEXT),
    messages.foreignStore(TEXT, TEXT, TEXT, undefined, messages.subjectOf("Job")),
  ],
  annotationTooLong: () => [messages.annotationTooLong(NUMBER)],
  annotationNotAList: () => [messages.annotationNotAList()],
  tooManyEntries: () => [messages.tooManyEntries(NUMBER)],
  invalidFileSpecification: () => [messages.invalidFileSpecification(TEXT, TEXT)],
  unknownEntryFields: () => [messages.unknownEntryFields(TEXT, TEXT, [TEXT])],
  entryFieldsNotStrings: () => [messages.entryFieldsNotStrings(TEXT, TEXT)],
  invalidEntryContainers: () => [messages.invalidEntryContainers(TEXT, TEXT)],
  invalidEntry: () => [messages.invalidEntry(TEXT, TEXT)],
  invalidMountPath: () => [messages.invalidMountPath(TEXT, TEXT, TEXT)],
  unknownContainer: () => [messages.unknownContainer(TEXT, TEXT, [TEXT])],
  duplicateMount: () => [messages.duplicateMount(TEXT, TEXT, TEXT, TEXT)],
  volumeNameTaken: () => [messages.volumeNameTaken(TEXT)],
  tooManyMounts: () => [messages.tooManyMounts(NUMBER)],
  moreProblems: () => [messages.moreProblems(1), messages.moreProblems(NUMBER)],
  legacyOwnerLabel: () => [messages.legacyOwnerLabel([TEXT])],
  subPathMounts: () => [messages.subPathMounts(NUMBER)],
  didYouMean: () => [messages.didYouMean(TEXT, [TEXT])],
};

const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Error messages"), readme.indexOf("## Configuration"));

/** The fixed words of a message: the text between the markers, each piece trimmed of quotes. */
function fixedParts(message: string): string[] {
  return message
    .split(TEXT)
    .flatMap((part) => part.split(String(NUMBER)))
    .map((part) => part.trim())
    .filter((part) => part.length >= 4);
}

describe("the README's error table", () => {
  it("is the section the test reads", () => {
    expect(section).toContain("| code | message |");
  });

  for (const [name, sample] of Object.entries(SAMPLES)) {
    it(`shows the words of messages.${name}`, () => {
      for (const message of sample()) {
        for (const part of fixedParts(message)) expect(section, `${name}: ${message}`).toContain(part);
      }
    });
  }

  it("shows every place in a pod a message can name", () => {
    const { places } = messages;
    const samples = [
      ...(["initContainers", "containers", "ephemeralContainers"] as const).map((field) =>
        places.env(TEXT, places.container(field, TEXT)),
      ),
      places.envFrom(TEXT),
      places.volume(TEXT),
      places.projectedVolume(TEXT),
      places.volumeSource(TEXT, TEXT),
      places.imagePullSecrets(),
      places.annotation(),
      places.annotationEntry(NUMBER),
      places.existingMount(TEXT),
      places.malformedReferences(),
    ];
    for (const place of samples) {
      for (const part of fixedParts(place)) expect(section, place).toContain(part);
    }
  });

  it("shows every mount path problem", () => {
    const problems = messages.MOUNT_PATH_PROBLEMS;
    for (const text of [problems.relative(), problems.parent(), problems.root(), problems.nul()]) {
      expect(section).toContain(text);
    }
    for (const part of fixedParts(problems.tooLong(NUMBER))) expect(section).toContain(part);
  });

  it("shows the decoder's messages", () => {
    const review = { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1" };
    const request = {
      uid: "u",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
    };
    const bodies: unknown[] = [
      [],
      { ...review, kind: "X" },
      { ...review, apiVersion: "v1" },
      review,
      { ...review, request: {} },
      { ...review, request: { ...request, operation: "X" } },
      { ...review, request: { ...request, object: { spec: 1 } } },
      { ...review, request: { ...request, object: { spec: { containers: 1 } } } },
      { ...review, request: { ...request, object: { metadata: { labels: 1 }, spec: {} } } },
      { ...review, request: { ...request, object: { spec: { containers: [{ name: 1 }] } } } },
    ];
    for (const body of bodies) {
      const decoded = decodeReview(body);
      if (decoded.kind !== "decode-error") throw new Error(`decoded: ${JSON.stringify(body)}`);
      // Shape errors start with the path of the field, which the README writes as PATH.
      const [path = "", rest = ""] = decoded.message.split(" must be ");
      const shown = path.startsWith("request.object") ? `PATH must be ${rest}` : decoded.message;
      expect(section).toContain(shown);
    }
  });
});
