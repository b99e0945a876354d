// @lora-tle/router — work in progress.
export {};
