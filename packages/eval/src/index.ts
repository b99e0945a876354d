// @lora-tle/eval — work in progress.
export {};
