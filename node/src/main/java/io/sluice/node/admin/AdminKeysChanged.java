package io.sluice.node.admin;

import io.sluice.persistence.AdminKeyState;
import io.sluice.persistence.CborSerializable;

/** Published to every node after an admin key was issued or revoked, so that each node's {@link AdminKeyring} follows at once. */
public record AdminKeysChanged(AdminKeyState state) implements CborSerializable {}
