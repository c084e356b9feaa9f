import CASEngine
public enum RegistryHTTPPlaceholder {}
