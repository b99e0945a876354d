// @lora-tle/backend-web — work in progress.
export {};
