// @lora-tle/lora-store — work in progress.
export {};
