package io.sluice.node.inference.chat;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A function the model may call.
 *
 * @param description null when absent
 * @param parameters the JSON Schema of its arguments, as the client sent it
 */
public record Tool(String name, String description, JsonNode parameters) {}
