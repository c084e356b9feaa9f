public enum RegistryConfigPlaceholder {}
