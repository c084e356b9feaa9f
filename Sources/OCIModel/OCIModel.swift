public enum OCIModelPlaceholder {}
