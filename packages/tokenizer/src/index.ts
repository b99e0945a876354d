// @lora-tle/tokenizer — work in progress.
export {};
