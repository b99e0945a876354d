// @lora-tle/graph — work in progress.
export {};
