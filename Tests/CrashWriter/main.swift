import CASEngine
print("crash writer placeholder")
