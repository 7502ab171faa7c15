# A Python file that defines no `model`.
x = 1
