// @lora-tle/engine — work in progress.
export {};
