// @lora-tle/backend-node — work in progress.
export {};
