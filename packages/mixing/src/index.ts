// @lora-tle/mixing — work in progress.
export {};
