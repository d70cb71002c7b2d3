"""hwlib: the code behind the HW5 book (Neural Networks for Recognition)."""
