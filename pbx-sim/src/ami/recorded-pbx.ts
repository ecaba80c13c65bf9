/** The AMI version the recorded Asterisk announces in its banner and CoreSettings (AMI_VERSION). */
export const AMI_VERSION = "9.0.0";

/** The version of the Asterisk the captures were recorded from (their `# source:` line). */
export const ASTERISK_VERSION = "20.20.1";
