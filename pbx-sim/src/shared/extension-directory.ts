/** Whether an extension's phone is registered (PJSIP contact present). */
export type ExtensionRegistration = "registered" | "unregistered";

/** The phones of the recorded PBX (captures ast-real-*): extension → CallerID name. */
const RECORDED_NAMES: Readonly<Record<string, string>> = {
  "1001": "Alice Smith",
  "1002": "Bob Jones",
  "1003": "Carol White",
  "1004": "Dave Brown",
  "1005": "Eve Supervisor",
  "1006": "Frank Green",
  "1007": "Grace Hall",
  "1008": "Heidi Klein",
  "1009": "Ivan Petrov",
  "1010": "Judy Moore",
  "1011": "Karl Young",
  "1012": "Laura King",
};

/** 1001..1012, all registered, as on the recorded PBX. */
export function defaultExtensions(): Record<string, ExtensionRegistration> {
  return Object.fromEntries(Object.keys(RECORDED_NAMES).map((extension) => [extension, "registered"]));
}

/** The CallerID name a phone presents; extensions the recording did not have show their number. */
export const extensionName = (extension: string) => RECORDED_NAMES[extension] ?? extension;
