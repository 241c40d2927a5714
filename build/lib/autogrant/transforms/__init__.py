"""autogrant transforms: the plain functions that do the work; flows only orchestrate."""
