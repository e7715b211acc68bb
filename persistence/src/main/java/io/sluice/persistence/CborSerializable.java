package io.sluice.persistence;

/**
 * Marker for every message and event that crosses a node boundary or reaches the journal.
 * It is bound to Pekko's {@code jackson-cbor} serializer in this module's {@code reference.conf},
 * so one binding covers commands, replies, events and snapshots.
 */
public interface CborSerializable {}
