"""Image classifier family (book chapter 10): VGG16 and Inception V3, pretrained-weight import, transfer learning."""
