package io.s2j.frontend;

import io.s2j.api.ProvisionResult;

/** What a create or ensure did ({@code s2-provision-result}) and the resource it left. */
public record Provisioned<T>(ProvisionResult result, T info) {}
