const FIXTURES = new URL("../../fixtures/", import.meta.url);

/** The path of a capture shipped in pbx-sim/fixtures. */
export const eslFixtureUrl = (file: string) => new URL(file, FIXTURES);
