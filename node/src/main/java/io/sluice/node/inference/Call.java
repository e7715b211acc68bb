package io.sluice.node.inference;

import java.util.function.Function;

/**
 * What a provider adapter sees of one request when it builds the upstream request: the scanned
 * body and the client's headers that a provider may pass on (for example {@code anthropic-beta}).
 *
 * @param header looks up a client request header by name; null when absent
 */
public record Call(ClientBody body, Function<String, String> header) {

  public Operation operation() {
    return body.operation();
  }

  public boolean stream() {
    return body.stream();
  }
}
