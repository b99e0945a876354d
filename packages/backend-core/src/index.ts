// @lora-tle/backend-core — work in progress.
export {};
