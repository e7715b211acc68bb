package io.sluice.node.inference.chat;

/**
 * Why generation stopped, in OpenAI's four terms (every provider's reasons map onto them, and
 * back, as the SDKs expect): a natural end or a stop sequence, the output limit, tool calls, or
 * a content filter.
 */
public enum FinishReason { STOP, LENGTH, TOOL_CALLS, CONTENT_FILTER }
