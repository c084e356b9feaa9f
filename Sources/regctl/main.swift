print("regctl: not built yet")
